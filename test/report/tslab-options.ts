import ts from "typescript";

/** tslab 1.0.22's compiler options for cells (TypeScript 5.0, node10 resolution): what both compile tests check against. */
export const TSLAB_COMPILER_OPTIONS: Readonly<ts.CompilerOptions> = Object.freeze({
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2022.d.ts"],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  esModuleInterop: true,
  resolveJsonModule: true,
  skipLibCheck: true,
  types: ["node"],
  noEmit: true,
});
