/**
 * Bundles a bench helper script into one plain JavaScript file, so each of
 * the many generator processes a run spawns starts in milliseconds instead
 * of loading the TypeScript loader first.
 */
import { build } from "esbuild";
import { basename, join } from "node:path";

export async function compileScript(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, basename(entry).replace(/\.ts$/, ".mjs"));
  await build({ entryPoints: [entry], outfile, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "error" });
  return outfile;
}
