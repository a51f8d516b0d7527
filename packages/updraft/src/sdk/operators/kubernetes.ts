// The Kubernetes operators live in ./kubernetes/ (one file per part); this path stays for imports.
export * from "./kubernetes/index.js";
