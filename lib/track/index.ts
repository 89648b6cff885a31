export * from "./format";
export * from "./store";
export * from "./run";
export * from "./query";
