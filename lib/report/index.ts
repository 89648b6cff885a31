export * from "./jupyter";
export * from "./notebooks";
export * from "./html";
export * from "./execute";
export * from "./index-page";
export * from "./check";
export * from "./summary";
