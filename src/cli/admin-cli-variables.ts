/**
 * Environment variables of the admin CLI; the server knows them too, so that it does not warn about them.
 * The TLS files carry ADMIN in their names so that they never read as the server's own listener settings.
 */
export const ADMIN_CLI_VARIABLES = {
  url: "PORTCULLIS_URL",
  token: "PORTCULLIS_ADMIN_TOKEN",
  tokenFile: "PORTCULLIS_ADMIN_TOKEN_FILE",
  caFile: "PORTCULLIS_ADMIN_CA_FILE",
  certFile: "PORTCULLIS_ADMIN_CERT_FILE",
  keyFile: "PORTCULLIS_ADMIN_KEY_FILE",
} as const;
