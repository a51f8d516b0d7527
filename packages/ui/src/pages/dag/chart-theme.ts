// The charts' colours come from the theme's CSS variables (styles.css), read when a chart is drawn;
// canvases do not follow CSS, so charts are redrawn when <html data-theme> changes.
import { useEffect, useState } from "react";

/** The value of a CSS variable on <html>, e.g. cssVar("--text"). */
export function cssVar(name: string, fallback = "#888"): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v === "" ? fallback : v;
}

/** A number that changes whenever the theme changes: a dependency that redraws a chart. */
export function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const observer = new MutationObserver(() => setVersion((v) => v + 1));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const follow = () => setVersion((v) => v + 1);
    media.addEventListener("change", follow);
    return () => {
      observer.disconnect();
      media.removeEventListener("change", follow);
    };
  }, []);
  return version;
}

/** Series colours told apart in both themes (Okabe–Ito, safe for colour-blind readers), plus more. */
export const SERIES_COLORS = [
  "#0072b2",
  "#e69f00",
  "#009e73",
  "#cc79a7",
  "#56b4e9",
  "#d55e00",
  "#f0e442",
  "#7f7f7f",
  "#8c564b",
  "#17becf",
];

/** Point shapes for series, so that lines are told apart without colour too. */
export const SERIES_DASHES: number[][] = [[], [6, 3], [2, 3], [8, 3, 2, 3], [1, 2], [10, 4]];
