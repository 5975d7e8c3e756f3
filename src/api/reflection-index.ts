import type { DescFile, DescService } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";

/** What server reflection looks up, over the files that define the served services and everything they import. */
export interface ReflectionIndex {
  /** Full names of the served services, in the order given. */
  readonly services: readonly string[];
  fileByName(name: string): DescFile | undefined;
  /** The file defining a fully-qualified symbol: a service, method, message, field, oneof, enum, enum value or extension. */
  fileContainingSymbol(symbol: string): DescFile | undefined;
  fileContainingExtension(extendee: string, number: number): DescFile | undefined;
  /** The extension numbers known for a message type; undefined when the type is unknown. */
  extensionNumbersOf(extendee: string): number[] | undefined;
}

/** Built once from the generated descriptors (`gen/**` `file_*`), reached through the served services. */
export function createReflectionIndex(services: readonly DescService[]): ReflectionIndex {
  const files = new Map<string, DescFile>();
  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, Map<number, DescFile>>();
  const messages = new Set<string>();

  const add = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const type of nestedTypes(file)) {
      symbols.set(type.typeName, file);
      switch (type.kind) {
        case "message":
          messages.add(type.typeName);
          for (const field of type.fields) symbols.set(`${type.typeName}.${field.name}`, file);
          for (const oneof of type.oneofs) symbols.set(`${type.typeName}.${oneof.name}`, file);
          break;
        case "enum": {
          // Enum values are scoped beside their enum (C++ scoping), not inside it.
          const scope = type.parent?.typeName ?? file.proto.package;
          for (const value of type.values) symbols.set(scope === "" ? value.name : `${scope}.${value.name}`, file);
          break;
        }
        case "service":
          for (const method of type.methods) symbols.set(`${type.typeName}.${method.name}`, file);
          break;
        case "extension": {
          const numbers = extensions.get(type.extendee.typeName) ?? new Map<number, DescFile>();
          numbers.set(type.number, file);
          extensions.set(type.extendee.typeName, numbers);
          break;
        }
      }
    }
    for (const dependency of file.dependencies) add(dependency);
  };
  for (const service of services) add(service.file);

  return {
    services: services.map((service) => service.typeName),
    fileByName: (name) => files.get(name),
    fileContainingSymbol: (symbol) => symbols.get(symbol),
    fileContainingExtension: (extendee, number) => extensions.get(extendee)?.get(number),
    extensionNumbersOf: (extendee) => (messages.has(extendee) ? [...(extensions.get(extendee)?.keys() ?? [])] : undefined),
  };
}

/**
 * `file` first, then every file it imports, directly or not, each once.
 * Files already in `sent` (given earlier on the same stream) are left out,
 * except `file` itself, as the reflection protocol allows.
 */
export function withDependencies(file: DescFile, sent: Set<string>): DescFile[] {
  const out: DescFile[] = [];
  const queue = [file];
  const seen = new Set<string>();
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (seen.has(next.proto.name)) continue;
    seen.add(next.proto.name);
    if (next === file || !sent.has(next.proto.name)) out.push(next);
    sent.add(next.proto.name);
    queue.push(...next.dependencies);
  }
  return out;
}
