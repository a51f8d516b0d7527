// Filter controls bound to one key of the URL's query (query-params.ts): text (applied as one
// types, after a pause), a choice, and a local date-time. Each has a visible label.
import { useEffect, useRef, useState } from "react";
import type { QueryParams } from "./query-params";

export function TextFilter(props: {
  q: QueryParams;
  name: string;
  label: string;
  placeholder?: string;
  list?: string;
}) {
  const { q, name } = props;
  const [value, setValue] = useState(q.get(name));
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const current = q.get(name);
  // Follows the URL when it changes from elsewhere (back button, a link, "Clear").
  useEffect(() => setValue(current), [current]);
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <label>
      {props.label}
      <input
        type="search"
        name={name}
        value={value}
        placeholder={props.placeholder}
        list={props.list}
        onChange={(e) => {
          const v = e.target.value;
          setValue(v);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => q.set({ [name]: v.trim() }), 300);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            clearTimeout(timer.current);
            q.set({ [name]: value.trim() });
          }
        }}
      />
    </label>
  );
}

export function SelectFilter(props: {
  q: QueryParams;
  name: string;
  label: string;
  options: readonly string[];
  all?: string;
}) {
  const { q, name } = props;
  return (
    <label>
      {props.label}
      <select name={name} value={q.get(name)} onChange={(e) => q.set({ [name]: e.target.value })}>
        <option value="">{props.all ?? "any"}</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o.replaceAll("_", " ")}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A local date-time in the URL as the user typed it (YYYY-MM-DDTHH:mm), sent as an ISO instant. */
export function DateFilter(props: { q: QueryParams; name: string; label: string }) {
  const { q, name } = props;
  return (
    <label>
      {props.label}
      <input
        type="datetime-local"
        name={name}
        value={q.get(name)}
        onChange={(e) => q.set({ [name]: e.target.value })}
      />
    </label>
  );
}

/** Removes every filter (keeps nothing of the query). */
export function ClearFilters({ q }: { q: QueryParams }) {
  const keys = [...q.search.keys()].filter((k) => k !== "offset");
  if (keys.length === 0) return null;
  return (
    <button
      type="button"
      className="ghost"
      onClick={() => q.set(Object.fromEntries(keys.map((k) => [k, null])))}
    >
      Clear filters
    </button>
  );
}
