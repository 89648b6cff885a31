export * from "./metrics";
export * from "./class-weights";
