/** The API group of SparkApplications (the only group besides the core one). */
export const SPARK_GROUP = "sparkoperator.k8s.io";
export const SPARK_VERSION = "v1beta2";
