export * from "./figure";
export * from "./html";
export * from "./table";
export * from "./images";
export * from "./display";
export * from "./boxes";
