export * from "./resize";
export * from "./normalize";
export * from "./transforms";
export * from "./presets";
