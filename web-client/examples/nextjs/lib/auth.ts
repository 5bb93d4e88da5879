// Stands in for the app's Better-Auth server instance, e.g.
//   export const auth = betterAuth({ plugins: [jwt()] });
// whose jwt plugin adds auth.api.getToken: a signed JWT for the session that
// the request's cookies carry.
export const auth = {
  api: {
    async getToken(_: { headers: Headers }): Promise<{ token: string }> {
      throw new Error("stand-in for Better-Auth");
    },
  },
};
