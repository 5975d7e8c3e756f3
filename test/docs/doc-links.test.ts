import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const DOCS = ["README.md", "SECURITY.md", "RELIABILITY.md", ...readdirSync(join(REPO, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

/** The text outside fenced code blocks, where a `#` line is a heading and `[a](b)` a link. */
function prose(path: string): string {
  let fenced = false;
  return readFileSync(join(REPO, path), "utf8")
    .split("\n")
    .filter((line) => {
      if (line.startsWith("```")) fenced = !fenced;
      return !fenced && !line.startsWith("```");
    })
    .join("\n");
}

/** Heading anchors as GitHub derives them: lower case, punctuation dropped, spaces as "-", repeats numbered. */
function anchorsOf(path: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(path).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every link to a file of the repository, or to a heading, that `path` holds. */
function localLinks(path: string): string[] {
  return [...prose(path).matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target!).filter((target) => !/^[a-z]+:/.test(target));
}

describe("links between README and docs/", () => {
  it.each(DOCS)("lead from %s to files and headings that exist", (path) => {
    const broken = localLinks(path).filter((target) => {
      const [file, anchor] = target.split("#") as [string, string | undefined];
      const resolved = file === "" ? path : relative(REPO, join(REPO, dirname(path), file));
      if (!existsSync(join(REPO, resolved))) return true;
      return anchor !== undefined && (!resolved.endsWith(".md") || !anchorsOf(resolved).has(anchor));
    });
    expect(broken).toEqual([]);
  });
});
