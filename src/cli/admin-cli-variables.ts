/** Environment variables of the admin CLI; the server knows them too, so that it does not warn about them. */
export const ADMIN_CLI_VARIABLES = {
  url: "PORTCULLIS_URL",
  token: "PORTCULLIS_ADMIN_TOKEN",
  tokenFile: "PORTCULLIS_ADMIN_TOKEN_FILE",
} as const;
