// Types of openapi-types.mjs, for the test that checks the committed client types are current.
export declare const CLIENT_TYPES_FILE: string;
export declare function clientTypesOf(doc: unknown): Promise<string>;
