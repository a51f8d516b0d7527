// The subject and HTML body of a failure or retry email, from nunjucks templates: Airflow's
// defaults ("Airflow alert: <TaskInstance …>", try, exception, log link, host) unless
// email.subject_template / email.html_content_template name files of the user's own. Values are
// HTML-escaped in the body (an exception message is user text), never in the subject.
import { readFileSync } from "node:fs";
import nunjucks from "nunjucks";
import { UpdraftError } from "../common/errors.js";

export interface TryNotice {
  kind: "task_failed" | "task_retry" | "sla_miss";
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  max_tries: number | null;
  logical_date: string | null;
  exception: string | null;
  log_url: string;
}

const DEFAULT_SUBJECT = `{% if kind == "sla_miss" %}[updraft] SLA miss on DAG={{ dag_id }}: {{ task_id }} in {{ run_id }}{% else %}Updraft alert: <TaskInstance: {{ dag_id }}.{{ task_id }} {{ run_id }}{% if map_index >= 0 %} map_index={{ map_index }}{% endif %} [{{ state }}]>{% endif %}`;

const DEFAULT_HTML = `{% if kind == "sla_miss" %}<p>Task {{ task_id }} of DAG {{ dag_id }} missed its SLA in run {{ run_id }}: {{ exception }}.</p>
<p>Logical date: {{ logical_date or "none" }}</p>
<p>Run: <a href="{{ log_url }}">{{ log_url }}</a></p>{% else %}<p>Try {{ try_number }} out of {{ max_tries + 1 if max_tries is not none else "?" }}</p>
<p>{% if state == "up_for_retry" %}The task failed and will be retried.{% else %}The task failed.{% endif %}</p>
<p>DAG: {{ dag_id }}<br>Task: {{ task_id }}{% if map_index >= 0 %} (map index {{ map_index }}){% endif %}<br>Run: {{ run_id }}<br>Logical date: {{ logical_date or "none" }}</p>
<p>Exception:<br><pre>{{ exception or "(no message)" }}</pre></p>
<p>Log: <a href="{{ log_url }}">{{ log_url }}</a></p>{% endif %}`;

export interface EmailTemplates {
  subjectFile: string | null;
  htmlFile: string | null;
}

function readTemplate(file: string | null, fallback: string, setting: string): string {
  if (file === null) return fallback;
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UpdraftError(
      "CONFIG_INVALID",
      `email.${setting} names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); fix the path or remove the setting to use the default template.`,
    );
  }
}

/** Renders notices with the configured templates (read once, when this is made). */
export function emailRenderer(
  templates: EmailTemplates,
): (n: TryNotice) => { subject: string; html: string } {
  const subject = readTemplate(templates.subjectFile, DEFAULT_SUBJECT, "subject_template");
  const html = readTemplate(templates.htmlFile, DEFAULT_HTML, "html_content_template");
  const plain = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
  const escaped = new nunjucks.Environment(null, { autoescape: true, throwOnUndefined: false });
  return (n) => {
    const vars = {
      ...n,
      state: n.kind === "task_failed" ? "failed" : n.kind === "task_retry" ? "up_for_retry" : "sla_miss",
      ti: `<TaskInstance: ${n.dag_id}.${n.task_id} ${n.run_id}>`,
    };
    return {
      // A subject is one line: a template's newlines would become extra headers.
      subject: plain
        .renderString(subject, vars)
        .replace(/[\r\n]+/g, " ")
        .trim(),
      html: escaped.renderString(html, vars),
    };
  };
}
