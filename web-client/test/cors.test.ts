// Browsers on an allowed origin may call the API with a bearer token and read
// the error headers gRPC-Web needs; other origins get no CORS grant.
import { describe, expect, it } from "vitest";
import { baseUrl } from "./support.js";

const allowed = "http://localhost:3000";

function preflight(origin: string, headers: string[], method = "POST", rpc = "CreateTask") {
  return fetch(`${baseUrl}/tasks.v1.TaskService/${rpc}`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      // As browsers send it (Fetch standard): lower-cased, sorted, no spaces.
      // rs/cors relies on the order and rejects an unsorted list.
      "Access-Control-Request-Headers": headers.map((h) => h.toLowerCase()).sort().join(","),
    },
  });
}

function list(header: string | null): string[] {
  return (header ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
}

describe("CORS", () => {
  it("lets the configured origin send Connect and gRPC-Web requests with a token", async () => {
    const requested = [
      "authorization",
      "content-type",
      "connect-protocol-version",
      "connect-timeout-ms",
      "x-grpc-web",
      "x-user-agent",
      "grpc-timeout",
    ];
    const res = await preflight(allowed, requested);
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(allowed);
    const granted = list(res.headers.get("Access-Control-Allow-Headers"));
    for (const h of requested) expect(granted).toContain(h);
    expect(list(res.headers.get("Access-Control-Allow-Methods"))).toContain("post");
  });

  it("lets the configured origin send GetTask as GET with a token", async () => {
    const res = await preflight(allowed, ["authorization"], "GET", "GetTask");
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(allowed);
    expect(list(res.headers.get("Access-Control-Allow-Methods"))).toContain("get");
    expect(list(res.headers.get("Access-Control-Allow-Headers"))).toContain("authorization");
  });

  it("exposes the gRPC-Web status headers to the page", async () => {
    const res = await fetch(`${baseUrl}/tasks.v1.TaskService/ListTasks`, {
      method: "POST",
      headers: { Origin: allowed, "Content-Type": "application/json" },
      body: "{}",
    });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(allowed);
    expect(list(res.headers.get("Access-Control-Expose-Headers"))).toEqual(
      expect.arrayContaining(["grpc-status", "grpc-message", "grpc-status-details-bin"]),
    );
  });

  it("grants nothing to other origins", async () => {
    const res = await preflight("https://evil.example", ["authorization", "content-type"]);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});
