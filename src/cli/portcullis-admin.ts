#!/usr/bin/env node
import { runAdminCli } from "./admin-cli.js";

// exitCode rather than exit(): stdout may still be draining into a pipe.
process.exitCode = await runAdminCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
});
