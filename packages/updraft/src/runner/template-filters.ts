// Airflow's own Jinja filters (airflow/templates.py: FILTERS): `{{ data_interval_end | ds }}`,
// `{{ logical_date | ts_nodash_with_tz }}`. None (null) passes through as None, as in Airflow.
import { UpdraftError } from "../common/errors.js";
import { strftime, toTs } from "./dates.js";

type DateFilter = (value: unknown) => string | null;

function dateFilter(name: string, format: (d: Date) => string): DateFilter {
  return (value) => {
    if (value === null || value === undefined) return null;
    if (!(value instanceof Date))
      throw new UpdraftError(
        "TEMPLATE_ERROR",
        `Filter "${name}" needs a date (such as logical_date or data_interval_end), got ${typeof value === "string" ? `the string "${value}"` : typeof value}.`,
      );
    return format(value);
  };
}

/** `isoformat()`: a naive date (macros.datetime) has no offset. */
function isoformat(d: Date): string {
  const iso = toTs(d);
  return (d as Date & { naive?: boolean }).naive === true ? iso.replace(/\+00:00$/, "") : iso;
}

/** The filters every template environment has, by name. */
export const AIRFLOW_FILTERS: Readonly<Record<string, DateFilter>> = {
  ds: dateFilter("ds", (d) => strftime(d, "%Y-%m-%d")),
  ds_nodash: dateFilter("ds_nodash", (d) => strftime(d, "%Y%m%d")),
  ts: dateFilter("ts", isoformat),
  ts_nodash: dateFilter("ts_nodash", (d) => strftime(d, "%Y%m%dT%H%M%S")),
  ts_nodash_with_tz: dateFilter("ts_nodash_with_tz", (d) => isoformat(d).replace(/[-:]/g, "")),
};
