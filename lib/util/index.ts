export * from "./random";
export * from "./stats";
export * from "./progress";
export * from "./gemm";
