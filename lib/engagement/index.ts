export * from "./metrics";
export * from "./binning";
