export * from "./attributes.js";
export * from "./labels.js";
export * from "./objects.js";
export * from "./sar.js";
export * from "./status.js";
export * from "./request-info.js";
export { JsonObjectSplitter } from "./json-stream.js";
