// Labelled form fields (a label over its input or select, in a `.field` box) and the save button
// with its "Saved." status, as the pages' forms use them.
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id" | "value" | "onChange">;

/** An input with its label; `children` (help text) comes after the input. */
export function TextField({
  id,
  label,
  value,
  onChange,
  children,
  ...input
}: InputProps & {
  id: string;
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  children?: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={(e) => onChange(e.target.value)} {...input} />
      {children}
    </div>
  );
}

type SelectProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, "id" | "value" | "onChange">;

/** A select with its label; `children` are its options. */
export function SelectField({
  id,
  label,
  value,
  onChange,
  children,
  ...select
}: SelectProps & {
  id: string;
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} {...select}>
        {children}
      </select>
    </div>
  );
}

/** A form's primary submit button and the "Saved." status beside it. */
export function SaveRow({ label, busy, saved }: { label: string; busy: boolean; saved: boolean }) {
  return (
    <div className="row">
      <button className="primary" type="submit" disabled={busy}>
        {label}
      </button>
      <span role="status">{saved ? "Saved." : ""}</span>
    </div>
  );
}
