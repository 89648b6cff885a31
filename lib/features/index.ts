export * from "./matrix";
export * from "./encoders";
export * from "./kmeans";
export * from "./pipeline";
export * from "./splits";
