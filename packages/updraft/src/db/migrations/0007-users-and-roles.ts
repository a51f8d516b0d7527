import type { Migration } from "./migration.js";

/**
 * Users, roles and credentials, with Airflow's FAB table names where Airflow has them (ab_user,
 * ab_role, ab_user_role), so that people who know Airflow's schema find them. Passwords are
 * argon2id hashes; API tokens and session ids are stored as sha256 of a random secret, which is
 * shown once and never stored. What each role may do is code (api/auth/permissions.ts); the
 * ab_role rows are the names a user can hold.
 */
export const migration0007: Migration = {
  version: 7,
  name: "users-and-roles",
  statements: [
    `CREATE TABLE ab_role (
      id serial PRIMARY KEY,
      name text NOT NULL UNIQUE
    )`,
    `INSERT INTO ab_role (name) VALUES ('Admin'), ('Op'), ('User'), ('Viewer')`,
    `CREATE TABLE ab_user (
      id serial PRIMARY KEY,
      username text NOT NULL UNIQUE,
      email text NOT NULL UNIQUE,
      first_name text NOT NULL DEFAULT '',
      last_name text NOT NULL DEFAULT '',
      password text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_on timestamptz NOT NULL DEFAULT now(),
      changed_on timestamptz NOT NULL DEFAULT now(),
      last_login timestamptz
    )`,
    `CREATE TABLE ab_user_role (
      user_id integer NOT NULL REFERENCES ab_user (id) ON DELETE CASCADE,
      role_id integer NOT NULL REFERENCES ab_role (id) ON DELETE CASCADE,
      PRIMARY KEY (user_id, role_id)
    )`,
    `CREATE TABLE api_token (
      id serial PRIMARY KEY,
      user_id integer NOT NULL REFERENCES ab_user (id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      description text,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      revoked_at timestamptz
    )`,
    `CREATE INDEX api_token_user_idx ON api_token (user_id)`,
    `CREATE TABLE user_session (
      id text PRIMARY KEY,
      user_id integer NOT NULL REFERENCES ab_user (id) ON DELETE CASCADE,
      csrf_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    )`,
    `CREATE INDEX user_session_user_idx ON user_session (user_id)`,
  ],
};
