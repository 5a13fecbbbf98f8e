// How eager completions are, as the user decides it: `tierline.snooze [minutes]` (pure parts: the
// choices offered, the status text) and `[completion.languages.X] trigger` from the settings.
import { Nested } from "./settings";

/** VS Code's own "Snooze Inline Suggestions" offers these; 5 is its default, and the server's. */
export const SNOOZE_MINUTES: readonly number[] = [1, 5, 10, 15, 30, 60];
export const DEFAULT_SNOOZE_MINUTES = 5;
/** The server refuses more (a day); longer than that is `trigger = "manual"`. */
export const MAX_SNOOZE_MINUTES = 1440;

export interface SnoozeChoice {
  label: string;
  /** Minutes to send to `tierline.snooze`; 0 resumes. */
  minutes: number;
}

/** The quick pick's items: the durations, and "Resume now" first while snoozed. */
export function snoozeChoices(snoozed: boolean): SnoozeChoice[] {
  const durations = SNOOZE_MINUTES.map((m) => ({ label: m === 1 ? "1 minute" : `${m} minutes`, minutes: m }));
  return snoozed ? [{ label: "Resume now", minutes: 0 }, ...durations] : durations;
}

/** A command argument as minutes, or undefined when it is not a usable number (then the pick is shown). */
export function snoozeArgument(arg: unknown): number | undefined {
  if (typeof arg !== "number" || !Number.isFinite(arg) || arg < 0 || arg > MAX_SNOOZE_MINUTES) return undefined;
  return arg;
}

/** When a `snoozed_until` (ISO time or null) ends, in ms since the epoch; undefined when not snoozed at `now`. */
export function snoozeEnd(snoozedUntil: unknown, now: number): number | undefined {
  if (typeof snoozedUntil !== "string") return undefined;
  const end = Date.parse(snoozedUntil);
  return Number.isFinite(end) && end > now ? end : undefined;
}

/** "HH:MM" in local time (24 h, as the status bar has little room). */
export function clock(epochMs: number): string {
  const d = new Date(epochMs);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** "snoozed until 14:05", or undefined when not snoozed at `now`. */
export function snoozeLabel(snoozedUntil: unknown, now: number): string | undefined {
  const end = snoozeEnd(snoozedUntil, now);
  return end === undefined ? undefined : `snoozed until ${clock(end)}`;
}

/**
 * Whether the explicitly set settings make automatic requests in `languageId` manual: the
 * language's own `completion.languages.<id>.trigger`, else `"*"`'s, else `completion.trigger`.
 * (The server decides with the user's config files too; this only saves the round trip.)
 */
export function isManual(settings: Nested, languageId: string): boolean {
  const completion = (settings.completion ?? {}) as Nested;
  const languages = completion.languages;
  if (languages && typeof languages === "object" && !Array.isArray(languages)) {
    for (const key of [languageId, "*"]) {
      const own = (languages as Nested)[key];
      const trigger = own && typeof own === "object" ? (own as Nested).trigger : undefined;
      if (trigger === "manual" || trigger === "automatic") return trigger === "manual";
    }
  }
  return completion.trigger === "manual";
}
