// `npm run kube-sim -- --kubeconfig PATH`: the Kubernetes API simulator in the foreground
// (packages/updraft/test/kube-sim/; a test tool, not part of the published package).
// Placeholder until the simulator lands (issue 10).
process.stderr.write("kube-sim: the simulator is not built yet (issue 10)\n");
process.exit(1);
