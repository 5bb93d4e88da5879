import { create, createFileRegistry, type Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";

/**
 * google.rpc.ErrorInfo, the detail whose `reason` names what went wrong.
 *
 * connect-es decodes error details with a message schema, and this repo has
 * no google/rpc protos to generate one from (no npm package ships them for
 * protobuf-es v2 either). So the schema is built here from a hand-written
 * FileDescriptorProto: the three fields of google/rpc/error_details.proto's
 * ErrorInfo, with their real names and numbers, which is all decoding needs.
 */
export type ErrorInfo = Message<"google.rpc.ErrorInfo"> & {
  /** A short UPPER_SNAKE_CASE code, e.g. `NOT_FOUND`. */
  reason: string;
  /** Who defines the reason; `tasks.v1` for this API. */
  domain: string;
  /** Extra key/value context; the Tasks API sends none today. */
  metadata: { [key: string]: string };
};

const string = (name: string, number: number) => ({
  name,
  number,
  jsonName: name,
  type: Type.STRING,
  label: Label.OPTIONAL,
});

const errorDetailsFile = create(FileDescriptorProtoSchema, {
  name: "google/rpc/error_details.proto",
  package: "google.rpc",
  syntax: "proto3",
  messageType: [
    {
      name: "ErrorInfo",
      field: [
        string("reason", 1),
        string("domain", 2),
        {
          name: "metadata",
          number: 3,
          jsonName: "metadata",
          type: Type.MESSAGE,
          label: Label.REPEATED,
          typeName: ".google.rpc.ErrorInfo.MetadataEntry",
        },
      ],
      nestedType: [
        {
          name: "MetadataEntry",
          field: [string("key", 1), string("value", 2)],
          options: { mapEntry: true },
        },
      ],
    },
  ],
});

/** The schema of google.rpc.ErrorInfo, for `ConnectError.findDetails`. */
export const ErrorInfoSchema = createFileRegistry(errorDetailsFile, () => undefined).getMessage(
  "google.rpc.ErrorInfo",
) as GenMessage<ErrorInfo>;
