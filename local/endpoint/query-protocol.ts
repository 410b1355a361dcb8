/**
 * What the services the endpoint serves on AWS's query protocol (SNS, SQS, IAM) share: reading the
 * form's numbered lists (`Prefix.N.Field`, counted from 1) and writing the XML answer, escaped.
 */

/** `s` as XML text or attribute value: the five characters XML reserves, as character references. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `<name>inner</name>`, `inner` already XML; `<name/>` when empty. */
export function xmlElement(name: string, inner: string): string {
  return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
}

/** `<name>value</name>`, `value` escaped. */
export function xmlText(name: string, value: string): string {
  return xmlElement(name, escapeXml(value));
}

/**
 * The members of the list `prefix` (`prefix.1.Name=a&prefix.1.Value=b&prefix.2.Name=...`), each as a
 * form of its own fields (`Name`, `Value`, nested lists alike); the list ends at the first number missing.
 */
export function formMembers(form: URLSearchParams, prefix: string): URLSearchParams[] {
  const members: URLSearchParams[] = [];
  for (let i = 1; ; i++) {
    const head = `${prefix}.${i}.`;
    const member = new URLSearchParams();
    for (const [key, value] of form) if (key.startsWith(head)) member.append(key.slice(head.length), value);
    if (member.size === 0) return members;
    members.push(member);
  }
}

/** The values of the list `prefix` of plain values (`prefix.1=a&prefix.2=b`). */
export function formValues(form: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1; form.has(`${prefix}.${i}`); i++) values.push(form.get(`${prefix}.${i}`)!);
  return values;
}

/**
 * An operation's answer: `<ActionResponse xmlns><ActionResult>result</ActionResult><ResponseMetadata>`;
 * `result` undefined leaves the Result element out, as for an operation that answers nothing.
 */
export function queryResponse(action: string, xmlns: string, result: string | undefined, requestId: string): string {
  const body = result === undefined ? '' : xmlElement(`${action}Result`, result);
  const metadata = xmlElement('ResponseMetadata', xmlText('RequestId', requestId));
  return `<${action}Response xmlns="${xmlns}">${body}${metadata}</${action}Response>`;
}
