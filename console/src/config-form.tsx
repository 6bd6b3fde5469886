// What the bucket configuration forms share (CORS, lifecycle, tagging, website, encryption): the stored document
// loaded once before the form may be edited, the XML S3 stores shown beside the form, and S3's
// validation error shown at the field it is about (tied to it for screen readers).
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { errorText } from './session.js';

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** One element of an XML view: text, or child elements (absent ones, null/undefined, left out). */
export interface XmlElement {
  readonly name: string;
  readonly content: string | number | boolean | readonly (XmlElement | null | undefined)[];
}

export function xmlElement(name: string, content: XmlElement['content']): XmlElement {
  return { name, content };
}

/** Elements named `name`, one per value (none for an absent or empty list). */
export function xmlElements(
  name: string,
  values: readonly (string | number)[] | undefined,
): XmlElement[] {
  return (values ?? []).map((value) => xmlElement(name, value));
}

/** An element only when `value` is given. */
export function xmlOptional(
  name: string,
  value: string | number | boolean | undefined,
): XmlElement | null {
  return value === undefined ? null : xmlElement(name, value);
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function render(element: XmlElement, indent: string, attributes = ''): string {
  const { name, content } = element;
  if (!Array.isArray(content)) {
    return `${indent}<${name}${attributes}>${escapeXml(String(content))}</${name}>\n`;
  }
  const children = (content as readonly (XmlElement | null | undefined)[]).filter(
    (child): child is XmlElement => child !== null && child !== undefined,
  );
  if (children.length === 0) return `${indent}<${name}${attributes}/>\n`;
  const inner = children.map((child) => render(child, `${indent}  `)).join('');
  return `${indent}<${name}${attributes}>\n${inner}${indent}</${name}>\n`;
}

/** The document a PUT sends, as the XML view shows it (S3's namespace on the root). */
export function xmlDocument(root: XmlElement): string {
  return render(root, '', ` xmlns="${XMLNS}"`).trimEnd();
}

/**
 * A form beside the XML it stores. `id` names the form (`<id>-title`), its `data-config` and
 * the XML view's `data-xml`.
 */
export function FormWithXml(props: {
  id: string;
  title: string;
  xml: string;
  onSubmit: (event: Event) => void;
  children: ComponentChildren;
}) {
  const { id, title, xml, onSubmit, children } = props;
  return (
    <div class="split">
      <form class="card" onSubmit={onSubmit} aria-labelledby={`${id}-title`} data-config={id}>
        <h2 id={`${id}-title`}>{title}</h2>
        {children}
      </form>
      <div class="card">
        <h2>{title} XML</h2>
        <pre class="xml" data-xml={id}>
          {xml}
        </pre>
      </div>
    </div>
  );
}

/** S3's refusal, placed: the entry (rule, tag row) and field it is about; entry -1: the form. */
export interface Problem {
  readonly entry: number;
  readonly field: string;
  readonly text: string;
}

/** The error a field shows (with the id its aria-describedby names), or null. */
export interface FieldProblem {
  readonly id: string;
  readonly text: string;
}

export function problemAt(
  problem: Problem | null,
  prefix: string,
  entry: number,
  field: string,
): FieldProblem | null {
  return problem !== null && problem.entry === entry && problem.field === field
    ? { id: `${prefix}-${entry}-${field}-error`, text: problem.text }
    : null;
}

/** The attributes that mark a field invalid and tie it to its error line. */
export function invalidIf(error: FieldProblem | null) {
  return { 'aria-invalid': error !== null, 'aria-describedby': error?.id };
}

/** The error line under a field: an alert, so it is announced when S3 refuses. */
export function FieldError({ error }: { error: FieldProblem | null }) {
  return error === null ? null : (
    <p class="error field-error" role="alert" id={error.id}>
      {error.text}
    </p>
  );
}

/** A labelled one-line input with its error under it. */
export function TextField(props: {
  label: string;
  name: string;
  value: string;
  error?: FieldProblem | null;
  numeric?: boolean;
  onInput: (value: string) => void;
}) {
  const { label, name, value, error = null, numeric = false, onInput } = props;
  return (
    <>
      <label>
        {label}
        <input
          name={name}
          value={value}
          {...(numeric ? { inputMode: 'numeric' } : {})}
          {...invalidIf(error)}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      </label>
      <FieldError error={error} />
    </>
  );
}

/** A textarea of one value a line, with S3's error about it under it. */
export function LinesField(props: {
  label: string;
  name: string;
  value: string;
  error: FieldProblem | null;
  onInput: (value: string) => void;
}) {
  const { label, name, value, error, onInput } = props;
  return (
    <>
      <label>
        {label}
        <textarea
          name={name}
          rows={2}
          value={value}
          {...invalidIf(error)}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      </label>
      <FieldError error={error} />
    </>
  );
}

/** The non-empty trimmed lines of `text`. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** S3's refusal as `place` reads it: code, message, and the error document's other fields. */
export interface Refusal {
  readonly code: string;
  readonly message: string;
  /** An element of S3's error document (the SDK copies them onto the error), '' when absent. */
  field(name: string): string;
}

/**
 * A stored configuration as an editable value: `load` reads it (S3's `missing` error code: none
 * stored, `empty`); `loaded` stays false until it came, as an edit made before would be
 * overwritten. `save` runs a PUT or DELETE, and places S3's refusal with `place`.
 */
export function useStoredConfig<T>(
  load: () => Promise<T>,
  missing: string,
  empty: T,
  deps: readonly unknown[],
) {
  const [value, setValue] = useState<T>(empty);
  const [loaded, setLoaded] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  useEffect(() => {
    // Another bucket: nothing of the last one's may be saved onto this one before it is read.
    setLoaded(false);
    setValue(empty);
    setProblem(null);
    load().then(
      (got) => {
        setValue(got);
        setLoaded(true);
      },
      (caught: { name?: string }) => {
        setLoaded(true);
        if (caught.name !== missing)
          setProblem({ entry: -1, field: 'form', text: errorText(caught) });
      },
    );
  }, deps);

  const update = (next: T) => {
    setSaved(null);
    setValue(next);
  };
  const save = async (
    work: () => Promise<unknown>,
    done: string,
    place: (refusal: Refusal) => Omit<Problem, 'text'>,
  ) => {
    setProblem(null);
    setSaved(null);
    try {
      await work();
      setSaved(done);
    } catch (caught) {
      const error = caught as Record<string, unknown>;
      const text = (key: string) => (typeof error[key] === 'string' ? (error[key] as string) : '');
      setProblem({
        ...place({ code: text('name'), message: text('message'), field: text }),
        text: errorText(caught),
      });
    }
  };
  /** Runs the DELETE `work`; the form then shows `empty`, as a bucket without one reads. */
  const clear = (work: () => Promise<unknown>, done: string) =>
    save(
      async () => {
        await work();
        update(empty);
      },
      done,
      () => ({ entry: -1, field: 'form' }),
    );
  return { value, update, loaded, problem, saved, save, clear };
}

/** A stored configuration that is a list of entries (rules, tag rows), edited entry by entry. */
export function useStoredList<T extends object>(
  load: () => Promise<T[]>,
  missing: string,
  deps: readonly unknown[],
) {
  const {
    value: entries,
    update,
    loaded,
    problem,
    saved,
    save,
  } = useStoredConfig<T[]>(load, missing, [], deps);
  /** Edits entry `index` (a rule, a tag row) in place. */
  const change = (index: number, edit: Partial<T>) =>
    update(entries.map((entry, i) => (i === index ? { ...entry, ...edit } : entry)));
  const remove = (index: number) => update(entries.filter((_, i) => i !== index));
  const add = (entry: T) => update([...entries, entry]);
  return { entries, change, remove, add, loaded, problem, saved, save };
}

/** A labelled select (labelled by id: a wrapping label's name would take in the option). */
export function SelectField(props: {
  id: string;
  label: string;
  name: string;
  value: string;
  options: readonly (readonly [value: string, label: string])[];
  error?: FieldProblem | null;
  onChange: (value: string) => void;
}) {
  const { id, label, name, value, options, error = null, onChange } = props;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select
        id={id}
        name={name}
        value={value}
        {...invalidIf(error)}
        onChange={(e) => onChange(e.currentTarget.value)}
      >
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
      <FieldError error={error} />
    </div>
  );
}

/** The form's own line: S3's refusal that names no field, then Add/Save and the outcome. */
export function FormFooter(props: {
  problem: Problem | null;
  saved: string | null;
  children: ComponentChildren;
}) {
  const { problem, saved, children } = props;
  return (
    <>
      {problem?.entry === -1 && (
        <p class="error" role="alert">
          {problem.text}
        </p>
      )}
      <div class="row">
        {children}
        {saved !== null && <span role="status">{saved}</span>}
      </div>
    </>
  );
}
