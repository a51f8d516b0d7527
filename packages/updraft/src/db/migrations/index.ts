import { migration0001 } from "./0001-initial.js";
import { migration0002 } from "./0002-claim-order.js";
import { migration0003 } from "./0003-wait-reason.js";
import { migration0004 } from "./0004-rendered-map-index.js";
import { migration0005 } from "./0005-xcom-json.js";
import { migration0007 } from "./0007-users-and-roles.js";
import { migration0008 } from "./0008-notes.js";
import { migration0009 } from "./0009-dag-code.js";
import { migration0010 } from "./0010-notifications.js";
import { migration0011 } from "./0011-sla-miss.js";
import { migration0012 } from "./0012-deadline.js";
import { migration0013 } from "./0013-triggerer.js";
import { migration0014 } from "./0014-assets.js";
import { migration0015 } from "./0015-run-order-index.js";
import type { Migration } from "./migration.js";

export type { Migration } from "./migration.js";

/** Every migration, in version order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0007,
  migration0008,
  migration0009,
  migration0010,
  migration0011,
  migration0012,
  migration0013,
  migration0014,
  migration0015,
];
