/**
 * The folder rules, checked by `npm run check:deps` (part of `npm test`).
 * Type-only imports count: naming a type couples two folders as much as
 * calling a function does.
 */
const TRANSPORTS = "^src/(api|envoy|http|cli)/";
/** config.ts, its helpers beside it (config-*.ts) and the section assembly in src/config/. */
const CONFIG = "^src/config(\\.ts$|-[^/]*\\.ts$|/)";
/** The wiring: it alone reads the whole config and builds the parts. */
const WIRING = "^src/((app|main|config)\\.ts$|wiring/)";

function forbid(name, comment, from, to) {
  return { name, comment, severity: "error", from, to };
}

module.exports = {
  forbidden: [
    forbid(
      "model-imports-nothing",
      "src/model/ is the vocabulary every folder names: it depends on no other part of the project and on no package.",
      { path: "^src/model/" },
      { pathNot: ["^src/model/"], dependencyTypesNot: ["core"] },
    ),
    forbid(
      "decision-imports-no-transport",
      "The engine answers whichever transport asks; it knows none of them.",
      { path: "^src/decision/" },
      { path: TRANSPORTS },
    ),
    forbid(
      "decision-imports-no-store",
      "The engine sees state only through the verifiers and policies it is given.",
      { path: "^src/decision/" },
      { path: "^src/store/" },
    ),
    forbid(
      "store-imports-no-domain",
      "The store keeps model records; what they mean is decided above it.",
      { path: "^src/store/" },
      { path: "^src/(credentials|decision|oauth|admin)/" },
    ),
    forbid(
      "store-imports-no-config",
      "The store is handed its settings. Its section schemas (*-settings.ts) have a rule of their own.",
      { path: "^src/store/", pathNot: ["-settings\\.ts$"] },
      { path: CONFIG },
    ),
    forbid(
      "store-settings-use-only-the-schema-kit",
      "A store section schema builds on src/settings-schema/ and on nothing of config.",
      { path: "^src/store/.*-settings\\.ts$" },
      { path: CONFIG },
    ),
    forbid(
      "transports-import-no-store",
      "Transports reach state through the services and the engine, never the store.",
      { path: "^src/(api|envoy|cli)/" },
      { path: "^src/store/" },
    ),
    forbid(
      "sealing-is-shared-below-the-services",
      "src/sealing/ seals secrets for every part that stores them (DCR, signing keys, the vault), so it imports none of those parts: " +
        "only errors, the settings schema kit, model/ and the store's interfaces.",
      { path: "^src/sealing/" },
      { path: "^src/", pathNot: ["^src/sealing/", "^src/errors\\.ts$", "^src/settings-schema/", "^src/model/", "^src/store/[^/]+-store\\.ts$", "^src/store/store\\.ts$"] },
    ),
    forbid(
      "only-the-wiring-imports-config",
      "Each module is handed its resolved section; only the wiring reads the whole config.",
      { path: "^src/", pathNot: [WIRING] },
      { path: "^src/config\\.ts$" },
    ),
    forbid(
      "shared-root-files-import-no-folder",
      "Files directly in src/ besides the wiring (errors, log, clock ...) are shared by every folder, so they " +
        "import none but src/model/: a cycle through them would escape the folder check, which counts them as src/.",
      { path: "^src/[^/]+\\.ts$", pathNot: [WIRING] },
      { path: "^src/[^/]+/", pathNot: ["^src/model/"] },
    ),
    {
      name: "no-circular",
      comment: "No import cycle between files.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-folder-cycle",
      comment: "No import cycle between folders; a subfolder counts as part of its parent.",
      severity: "error",
      scope: "folder",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import the check cannot resolve would escape every rule above.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // Packages are resolved through their "exports" (subpaths like @bufbuild/protobuf/wkt), as Node does.
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
    // The folder graph that no-folder-cycle checks is built by the metrics step.
    metrics: true,
  },
};
