// `updraft users …`: users, their roles and their API tokens, as Airflow's `airflow users …`.
// They work on the metadata database directly, or through a running standalone like every
// database command (database.ts).
import { Option, type Command } from "commander";
import { parseDuration } from "../../common/duration.js";
import { UpdraftError } from "../../common/errors.js";
import {
  addUserRole,
  deleteUser,
  listApiTokens,
  listUsers,
  removeUserRole,
  revokeApiToken,
  type UserWithRoles,
} from "../../db/index.js";
import {
  createApiToken,
  createUser,
  randomPassword,
  requireUser,
  resetPassword,
  setActive,
  userNotFound,
} from "../../services/index.js";
import { withDatabase } from "../database.js";
import { iso, parseIntOption, printJson, printTable, usesDatabase, type CliContext } from "./context.js";

const output = (): Option =>
  new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table");

/** The password of --password or --use-random-password (printed once by the caller). */
function chosenPassword(opts: { password?: string; useRandomPassword?: boolean }): {
  password: string;
  random: boolean;
} {
  if (opts.password !== undefined && opts.useRandomPassword === true) {
    throw new UpdraftError("USER_INVALID", "Give either --password or --use-random-password, not both.");
  }
  if (opts.useRandomPassword === true) return { password: randomPassword(), random: true };
  if (opts.password === undefined) {
    throw new UpdraftError(
      "USER_INVALID",
      "A password is needed: --password <password>, or --use-random-password to have one made and printed once.",
    );
  }
  return { password: opts.password, random: false };
}

function printUsers(ctx: CliContext, users: readonly UserWithRoles[], format: string): void {
  const rows = users.map((u) => ({
    id: u.id,
    username: u.username,
    email: u.email,
    first_name: u.first_name,
    last_name: u.last_name,
    roles: u.roles,
    active: u.active,
    last_login: iso(u.last_login),
  }));
  if (format === "json") return printJson(ctx, rows);
  printTable(
    ctx,
    ["id", "username", "email", "first_name", "last_name", "roles", "active", "last_login"],
    rows.map((r) => [
      String(r.id),
      r.username,
      r.email,
      r.first_name,
      r.last_name,
      r.roles.join(","),
      String(r.active),
      r.last_login ?? "",
    ]),
  );
}

/** `30d`, `12h`, `90m`… as seconds; more than zero. */
function parseExpiresIn(text: string): number {
  const ms = parseDuration(text, "--expires-in");
  if (ms < 1000) {
    throw new UpdraftError(
      "INVALID_DURATION",
      `--expires-in must be at least 1s (got ${JSON.stringify(text)}).`,
    );
  }
  return Math.floor(ms / 1000);
}

export function registerUsersCommands(program: Command, ctx: CliContext): void {
  const users = program
    .command("users")
    .description("create, list and delete users, their roles and API tokens");

  usesDatabase(
    users
      .command("create")
      .description("create a user with a role (Admin, Op, User or Viewer)")
      .requiredOption("-u, --username <username>")
      .requiredOption("-e, --email <email>")
      .requiredOption("-r, --role <role>", "Admin, Op, User or Viewer")
      .option("-f, --firstname <name>")
      .option("-l, --lastname <name>")
      .option("-p, --password <password>", "at least 8 characters, not the user name, not `changeme`")
      .option("--use-random-password", "make a random password and print it once")
      .action(
        async (opts: {
          username: string;
          email: string;
          role: string;
          firstname?: string;
          lastname?: string;
          password?: string;
          useRandomPassword?: boolean;
        }) => {
          const { password, random } = chosenPassword(opts);
          await withDatabase(ctx, async (database) => {
            await createUser(database.db, {
              username: opts.username,
              email: opts.email,
              password,
              roles: [opts.role],
              ...(opts.firstname === undefined ? {} : { firstName: opts.firstname }),
              ...(opts.lastname === undefined ? {} : { lastName: opts.lastname }),
            });
            ctx.io.out(`User "${opts.username}" created with role ${opts.role}.\n`);
            if (random) ctx.io.out(`Password (shown once): ${password}\n`);
          });
        },
      ),
  );

  usesDatabase(
    users
      .command("list")
      .description("list the users")
      .addOption(output())
      .action(async (opts: { output: string }) => {
        await withDatabase(ctx, async (database) =>
          printUsers(ctx, await listUsers(database.db), opts.output),
        );
      }),
  );

  usesDatabase(
    users
      .command("delete")
      .description("delete a user, with their tokens and sessions")
      .requiredOption("-u, --username <username>")
      .action(async (opts: { username: string }) => {
        await withDatabase(ctx, async (database) => {
          if (!(await deleteUser(database.db, opts.username))) throw userNotFound(opts.username);
          ctx.io.out(`User "${opts.username}" deleted.\n`);
        });
      }),
  );

  usesDatabase(
    users
      .command("reset-password")
      .description("set a user's password; ends the user's login sessions")
      .requiredOption("-u, --username <username>")
      .option("-p, --password <password>", "at least 8 characters, not the user name, not `changeme`")
      .option("--use-random-password", "make a random password and print it once")
      .action(async (opts: { username: string; password?: string; useRandomPassword?: boolean }) => {
        const { password, random } = chosenPassword(opts);
        await withDatabase(ctx, async (database) => {
          await resetPassword(database.db, opts.username, password);
          ctx.io.out(`Password of "${opts.username}" reset; their sessions have ended.\n`);
          if (random) ctx.io.out(`Password (shown once): ${password}\n`);
        });
      }),
  );

  for (const [name, active] of [
    ["disable", false],
    ["enable", true],
  ] as const) {
    usesDatabase(
      users
        .command(name)
        .description(
          active
            ? "let a disabled user in again"
            : "keep a user out (sessions end, tokens are refused) without deleting them",
        )
        .requiredOption("-u, --username <username>")
        .action(async (opts: { username: string }) => {
          await withDatabase(ctx, async (database) => {
            await setActive(database.db, opts.username, active);
            ctx.io.out(`User "${opts.username}" ${active ? "enabled" : "disabled"}.\n`);
          });
        }),
    );
  }

  usesDatabase(
    users
      .command("add-role")
      .description("give a user a role")
      .requiredOption("-u, --username <username>")
      .requiredOption("-r, --role <role>", "Admin, Op, User or Viewer")
      .action(async (opts: { username: string; role: string }) => {
        await withDatabase(ctx, async (database) => {
          const user = await requireUser(database.db, opts.username);
          const added = await addUserRole(database.db, user.id, opts.role);
          ctx.io.out(
            added
              ? `User "${opts.username}" now has role ${opts.role}.\n`
              : `User "${opts.username}" has role ${opts.role} already.\n`,
          );
        });
      }),
  );

  usesDatabase(
    users
      .command("remove-role")
      .description("take a role from a user")
      .requiredOption("-u, --username <username>")
      .requiredOption("-r, --role <role>", "Admin, Op, User or Viewer")
      .action(async (opts: { username: string; role: string }) => {
        await withDatabase(ctx, async (database) => {
          const user = await requireUser(database.db, opts.username);
          if (!(await removeUserRole(database.db, user.id, opts.role))) {
            throw new UpdraftError(
              "ROLE_NOT_FOUND",
              `User "${opts.username}" does not have role ${opts.role} (roles: ${user.roles.join(", ") || "none"}).`,
            );
          }
          ctx.io.out(`Role ${opts.role} removed from "${opts.username}".\n`);
        });
      }),
  );

  const tokens = users.command("tokens").description("API tokens (Authorization: Bearer <token>)");

  usesDatabase(
    tokens
      .command("create")
      .description("create an API token for a user; it is printed once and stored hashed")
      .requiredOption("-u, --username <username>")
      .option("--expires-in <duration>", "lifetime such as 30d, 12h (default: until revoked)")
      .option("--description <text>", "what the token is for")
      .action(async (opts: { username: string; expiresIn?: string; description?: string }) => {
        const expiresInS = opts.expiresIn === undefined ? null : parseExpiresIn(opts.expiresIn);
        await withDatabase(ctx, async (database) => {
          const t = await createApiToken(database.db, opts.username, {
            expiresInS,
            description: opts.description ?? null,
          });
          ctx.io.out(
            `API token ${t.id} for "${opts.username}"${t.expires_at === null ? "" : `, expires ${t.expires_at.toISOString()}`} (shown once; store it now):\n${t.token}\n`,
          );
        });
      }),
  );

  usesDatabase(
    tokens
      .command("list")
      .description("list a user's API tokens (never the tokens themselves)")
      .requiredOption("-u, --username <username>")
      .addOption(output())
      .action(async (opts: { username: string; output: string }) => {
        await withDatabase(ctx, async (database) => {
          const user = await requireUser(database.db, opts.username);
          const rows = (await listApiTokens(database.db, user.id)).map((t) => ({
            id: t.id,
            description: t.description,
            created_at: iso(t.created_at),
            expires_at: iso(t.expires_at),
            revoked_at: iso(t.revoked_at),
          }));
          if (opts.output === "json") return printJson(ctx, rows);
          printTable(
            ctx,
            ["id", "description", "created_at", "expires_at", "revoked_at"],
            rows.map((r) => [
              String(r.id),
              r.description ?? "",
              r.created_at ?? "",
              r.expires_at ?? "",
              r.revoked_at ?? "",
            ]),
          );
        });
      }),
  );

  usesDatabase(
    tokens
      .command("revoke")
      .description("revoke an API token at once")
      .requiredOption("--id <id>", "the token's id (`updraft users tokens list`)")
      .action(async (opts: { id: string }) => {
        const id = parseIntOption("--id", opts.id, 1);
        await withDatabase(ctx, async (database) => {
          if (!(await revokeApiToken(database.db, id))) {
            throw new UpdraftError(
              "API_TOKEN_NOT_FOUND",
              `There is no unrevoked API token ${id}. Run \`updraft users tokens list --username <user>\` to see the tokens.`,
            );
          }
          ctx.io.out(`API token ${id} revoked.\n`);
        });
      }),
  );
}
