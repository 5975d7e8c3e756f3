import fc from "fast-check";

/**
 * The policy: a host rule guards POST /api/libraries on
 * admin.example.com and the next rule makes the same path public for other
 * hosts; /admin needs a scope; /public/ is public.
 */
export const HOST_PATH_POLICY = {
  rules: [
    { name: "library-admin", path: "/api/libraries", methods: ["POST"], host: "admin.example.com", scope: "libraries:admin" },
    { name: "libraries", path: "/api/libraries", methods: ["POST"], public: true },
    { name: "admin-area", path_prefix: "/admin", scope: "admin" },
    { name: "public", path_prefix: "/public/", public: true },
  ],
};

const ADMIN_HOST = "admin.example.com";

/** A request as the property sends it; without a credential, only a public rule can allow it. */
export interface HostPathRequest {
  method: string;
  host: string;
  path: string;
}

/** What another program could make of a request: the host and path it would route on. */
interface Reading {
  host: string | undefined;
  path: string;
}

/**
 * True when some reading of the request reaches a target only a credential
 * may reach: POST /api/libraries on admin.example.com, or anything under
 * /admin. An ALLOW for such a request is a bypass.
 */
export function reachesProtected(request: HostPathRequest): boolean {
  return readingsOf(request).some(({ host, path }) => {
    const target = upstreamRoute(path);
    if (target === "/admin" || target.startsWith("/admin/")) return true;
    return request.method === "POST" && host === ADMIN_HOST && (target === "/api/libraries" || target === "/api/libraries/");
  });
}

/** Hosts and paths as WHATWG URL, a Python-style urlsplit, the old lax normalizer, double and overlong-tolerant decoders and NFKC read them. */
function readingsOf({ host, path }: HostPathRequest): Reading[] {
  const once = decodeLeniently(path);
  const paths = [path, once, decodeLeniently(once), decodeTolerantly(path), once.normalize("NFKC"), decodeLeniently(path.normalize("NFKC"))];
  const whatwg = whatwgReading(host, path);
  if (whatwg !== undefined) paths.push(whatwg.path, decodeLeniently(whatwg.path));
  const hosts = [whatwg?.host, urlsplitHostname(host), laxHostname(host)];
  return hosts.flatMap((readHost) => paths.map((readPath) => ({ host: readHost, path: readPath })));
}

/**
 * `new URL("http://" + host + path)`. An empty host, or one holding a URL
 * delimiter, would move path text into the host or host text into the path;
 * such a host is absent or malformed to Portcullis (host_required or bad_host
 * wherever a host rule applies, never consulted elsewhere), so the path is
 * then read on its own.
 */
function whatwgReading(host: string, path: string): Reading | undefined {
  const hostname = parsedUrl(`http://${host}/`)?.hostname.replace(/\.$/, "");
  const moves = host === "" || /[/?#\\]/.test(host);
  const url = parsedUrl(moves ? `http://h${path}` : `http://${host}${path}`);
  return url === undefined ? undefined : { host: moves ? hostname : url.hostname.replace(/\.$/, ""), path: url.pathname };
}

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Python's urlsplit(...).hostname: after the last "@", before a port, lower-cased. */
function urlsplitHostname(host: string): string {
  const afterUserinfo = host.slice(host.lastIndexOf("@") + 1);
  const name = afterUserinfo.startsWith("[") ? afterUserinfo.slice(0, afterUserinfo.indexOf("]") + 1) : afterUserinfo.split(":")[0]!;
  return name.toLowerCase().replace(/\.$/, "");
}

/** What Portcullis did before: lower case, drop a numeric port and a trailing dot, nothing else. */
function laxHostname(host: string): string {
  return host.toLowerCase().replace(/:\d*$/, "").replace(/\.$/, "");
}

/** A decoder that decodes valid UTF-8 escapes and keeps everything else. */
export function decodeLeniently(text: string): string {
  return text.replace(/(%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** A decoder that accepts overlong UTF-8 and reads stray bytes as Latin-1, as careless ones do. */
function decodeTolerantly(text: string): string {
  return text.replace(/(%[0-9a-f]{2})+/gi, (run) => {
    const bytes = run.split("%").slice(1).map((hex) => parseInt(hex, 16));
    let out = "";
    for (let index = 0; index < bytes.length; index++) {
      const byte = bytes[index]!;
      const continuation = (offset: number) => (bytes[index + offset] ?? 0) & 0x3f;
      const continues = (count: number) => bytes.slice(index + 1, index + 1 + count).filter((next) => (next & 0xc0) === 0x80).length === count;
      if ((byte & 0xe0) === 0xc0 && continues(1)) {
        out += String.fromCharCode(((byte & 0x1f) << 6) | continuation(1));
        index += 1;
      } else if ((byte & 0xf0) === 0xe0 && continues(2)) {
        out += String.fromCharCode(((byte & 0x0f) << 12) | (continuation(1) << 6) | continuation(2));
        index += 2;
      } else {
        out += String.fromCharCode(byte);
      }
    }
    return out;
  });
}

/** The route a lenient upstream takes: \ as /, slashes merged, ;params dropped, dot segments resolved. */
function upstreamRoute(path: string): string {
  const route: string[] = [];
  for (const raw of path.split(/[/\\]/)) {
    const segment = raw.split(";")[0]!;
    if (segment === "..") route.pop();
    else if (segment !== "." && segment !== "") route.push(segment);
  }
  const trailing = /[/\\]$/.test(path) && route.length > 0 ? "/" : "";
  return `/${route.join("/")}${trailing}`;
}

const HOST_INSERTIONS = [
  "@", "evil@", ":", ":0", ":65536", ":https", ":8443", " ", "\u0000", "\t", "%2e", "%61", "\\", "/", "?", "#", "\u200d", "\u00ad",
  "\u3002", "\uff0e", "\uff61", "\uff41", ".", "..", "-", "[", "]", "0x7f", "127.1",
];

/** Hosts biased toward the characters that make parsers disagree, and the plain hosts that must keep matching. */
export const hostArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("admin.example.com", "Admin.Example.com", "admin.example.com:8443", "admin.example.com.", "api.example.com", ""),
  fc
    .tuple(fc.constantFrom(ADMIN_HOST, "api.example.com"), fc.array(fc.tuple(fc.constantFrom(...HOST_INSERTIONS), fc.nat()), { minLength: 1, maxLength: 3 }))
    .map(([base, insertions]) =>
      insertions.reduce<string>((host, [insertion, at]) => {
        const position = at % (host.length + 1);
        return host.slice(0, position) + insertion + host.slice(position);
      }, base),
    ),
  fc.constantFrom(ADMIN_HOST.replaceAll(".", "\u3002"), ADMIN_HOST.replace("a", "\uff41"), `evil.example.com@${ADMIN_HOST}`, `${ADMIN_HOST}:`),
);

const PATH_PIECES = [
  "x", "admin", "api", "libraries", "public", ".", "..", "%2e", "%2e%2e", "%252e%252e", "%25%32%65", "%c0%ae", "%c0%af", "%e0%80%ae",
  "%e0%80%af", "%ff", "\uff0e", "%EF%BC%8E", "\u2024", "\u2025", "\uff0f", "%EF%BC%8F", "\u2215", "\ufe52", "\uff3c", "\\", "%5c",
  "%252f", "%C3%A9", ";", "%3b", "/", "%20",
];

/** Paths from the policy's prefixes followed by pieces that climb, hide or forge segments. */
export const pathArbitrary: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("/public/", "/api/libraries", "/admin", "/"),
    fc.array(fc.array(fc.constantFrom(...PATH_PIECES), { minLength: 1, maxLength: 3 }), { maxLength: 4 }),
  )
  .map(([prefix, segments]) => (segments.length === 0 ? prefix : `${prefix}${prefix.endsWith("/") ? "" : "/"}${segments.map((segment) => segment.join("")).join("/")}`));

export const requestArbitrary: fc.Arbitrary<HostPathRequest> = fc.record({
  method: fc.constantFrom("POST", "GET"),
  host: hostArbitrary,
  path: pathArbitrary,
});
