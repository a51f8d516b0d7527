// Types of example-services-start.mjs for the TypeScript tests that import it.
export interface ExampleServicesOptions {
  host?: string;
  /** 0 picks a free port. */
  s3Port?: number;
  httpPort?: number;
  /** A server where the user may create a database (the login defaults to PGUSER or the OS user). */
  postgresUrl?: string;
  /** Created on that server unless it exists. */
  database?: string;
  bucket?: string;
  /** How many of the orders API's first /ready answers are 404 (default 1: the sensor defers once). */
  warmUpPolls?: number;
  /** s3rver's data folder (default: a temporary folder removed by stop()). */
  s3Directory?: string;
}

export interface ExampleServices {
  /** UPDRAFT_CONN_ORDERS_API, UPDRAFT_CONN_WAREHOUSE_S3, UPDRAFT_CONN_WAREHOUSE_DB. */
  env: Record<string, string>;
  s3Endpoint: string;
  s3Directory: string;
  bucket: string;
  httpUrl: string;
  /** The example database's URL. */
  postgresUrl: string;
  stop(): Promise<void>;
}

export declare const DEFAULTS: Readonly<Required<Omit<ExampleServicesOptions, "s3Directory">>>;
export declare function ordersOf(
  day: string,
): { order_id: string; day: string; region: string; amount: number }[];
export declare function startExampleServices(options?: ExampleServicesOptions): Promise<ExampleServices>;
