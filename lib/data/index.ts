export * from "./types";
export * from "./paths";
export * from "./errors";
export * from "./pyList";
export * from "./load";
export * from "./duplicates";
export * from "./images";
export * from "./imageStats";
