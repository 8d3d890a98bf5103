// A key's rate limits and credits as typed in a form: the four numeric fields and their parsing.
import { optionalInt } from "./ui.tsx";
import { TextField } from "./fields.tsx";

export interface LimitsText {
  perMinute: string;
  perHour: string;
  perDay: string;
  credits: string;
}

export const LIMITS_ERROR = "Rate limits and credits must be whole numbers.";

/** The limits and credits as numbers (null: none), or null when one is not a whole number. */
export function parseLimits(text: LimitsText) {
  const rateLimit = {
    perMinute: optionalInt(text.perMinute),
    perHour: optionalInt(text.perHour),
    perDay: optionalInt(text.perDay),
  };
  const credits = optionalInt(text.credits);
  if (Object.values(rateLimit).some(Number.isNaN) || Number.isNaN(credits)) return null;
  return { rateLimit, credits };
}

const LIMITS: [keyof LimitsText, string, string][] = [
  ["perMinute", "per-minute", "Requests per minute"],
  ["perHour", "per-hour", "Requests per hour"],
  ["perDay", "per-day", "Requests per day"],
  ["credits", "credits", "Credits"],
];

/** Requests per minute, hour and day, and credits; ids are `${idPrefix}-per-minute` and so on. */
export function LimitFields({
  idPrefix,
  creditsLabel,
  value,
  onChange,
}: {
  idPrefix: string;
  creditsLabel: string;
  value: LimitsText;
  onChange: (value: LimitsText) => void;
}) {
  return (
    <>
      {LIMITS.map(([key, suffix, label]) => (
        <TextField
          key={key}
          id={`${idPrefix}-${suffix}`}
          label={key === "credits" ? creditsLabel : label}
          inputMode="numeric"
          placeholder={key === "credits" ? "unlimited" : undefined}
          value={value[key]}
          onChange={(text) => onChange({ ...value, [key]: text })}
        />
      ))}
    </>
  );
}
