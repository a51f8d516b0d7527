// `UPDRAFT_CONN_{CONN_ID}` as Airflow reads `AIRFLOW_CONN_{CONN_ID}`: a URI or a JSON object,
// the id upper-cased, and a broken value named without its password.
import { describe, expect, it } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import { connEnvName, connectionFromEnv } from "./env-connection.js";

function errorOf(env: Record<string, string>, connId = "warehouse") {
  try {
    connectionFromEnv(connId, env);
  } catch (err) {
    if (isUpdraftError(err, "CONNECTION_ENV_INVALID")) return err;
    throw err;
  }
  throw new Error("no error");
}

describe("connections from the environment", () => {
  it("reads a URI from the upper-cased id, whatever the id's case", () => {
    const env = {
      UPDRAFT_CONN_WAREHOUSE: "postgresql://etl:s%40cret@127.0.0.1:5433/analytics?sslmode=disable",
    };
    for (const id of ["warehouse", "WAREHOUSE", "WareHouse"]) {
      expect(connectionFromEnv(id, env)).toEqual({
        connId: id,
        connType: "postgres",
        description: null,
        host: "127.0.0.1",
        schema: "analytics",
        login: "etl",
        password: "s@cret",
        port: 5433,
        extra: '{"sslmode":"disable"}',
      });
    }
    expect(connEnvName("my-api")).toBe("UPDRAFT_CONN_MY-API");
  });

  it("reads Airflow's JSON form, with the extra as an object or as JSON text", () => {
    const json = {
      conn_type: "aws",
      login: "key",
      password: "secret",
      extra: { endpoint_url: "http://127.0.0.1:4569", region_name: "us-east-1" },
    };
    const a = connectionFromEnv("lake", { UPDRAFT_CONN_LAKE: JSON.stringify(json) });
    const b = connectionFromEnv("lake", {
      UPDRAFT_CONN_LAKE: `  ${JSON.stringify({ ...json, extra: JSON.stringify(json.extra), port: "443" })}`,
    });
    expect(a).toMatchObject({ connType: "aws", login: "key", password: "secret", host: null, port: null });
    expect(JSON.parse(a?.extra ?? "")).toEqual(json.extra);
    expect(b).toMatchObject({ connType: "aws", port: 443, extra: a?.extra });
  });

  it("is undefined when the variable is unset or empty, so the database is asked", () => {
    expect(connectionFromEnv("warehouse", {})).toBeUndefined();
    expect(connectionFromEnv("warehouse", { UPDRAFT_CONN_WAREHOUSE: "  " })).toBeUndefined();
    expect(connectionFromEnv("warehouse", { UPDRAFT_CONN_OTHER: "http://x" })).toBeUndefined();
  });

  it.each([
    ["postgres//etl:Pa55word@db/analytics", "is not a connection URI"],
    ['{"conn_type": "postgres", "password": "Pa55word"', "is not valid JSON"],
    ['{"host": "db", "password": "Pa55word"}', '"conn_type" is missing'],
    ['{"conn_type": "postgres", "port": "54x", "password": "Pa55word"}', '"port" must be a whole number'],
    ['{"conn_type": "postgres", "pasword": "Pa55word"}', 'unknown field(s) "pasword"'],
    [
      '{"conn_type": "postgres", "extra": "sslmode=require", "password": "Pa55word"}',
      '"extra" is text that is not JSON',
    ],
  ])("refuses %s, naming the variable and the fix, never the password", (value, why) => {
    const err = errorOf({ UPDRAFT_CONN_WAREHOUSE: value });
    expect(err.message).toContain("UPDRAFT_CONN_WAREHOUSE");
    expect(err.message).toContain(why);
    expect(err.message).toContain("Set it to a connection URI");
    expect(err.message).not.toContain("Pa55word");
    expect(err.details).toEqual({ variable: "UPDRAFT_CONN_WAREHOUSE", conn_id: "warehouse" });
  });
});
