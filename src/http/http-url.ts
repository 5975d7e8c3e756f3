import { InvalidArgumentError } from "../errors.js";

/** An absolute http(s) URL without fragment, as RFC 9728 asks of metadata and resource URLs. */
export function httpUrl(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(field, `"${value}" is not an absolute URL`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hash !== "" || /["\\\s]/.test(value)) {
    throw new InvalidArgumentError(field, "must be an http(s) URL without fragment, quotes or spaces");
  }
  return value;
}
