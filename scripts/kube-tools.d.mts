// Types of kube-tools.mjs for the TypeScript tests that import it.
/** Absolute paths of kubectl and helm, unpacking them on first use. */
export declare function kubeTools(): { kubectl: string; helm: string };
