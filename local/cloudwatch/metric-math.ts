/**
 * CloudWatch metric math, the part alarms use here: numbers, metric ids, + - * /, comparisons
 * (> < >= <= == !=), AND / OR, parentheses and the functions IF, FILL and ABS, evaluated one period at a
 * time. A missing datapoint is `undefined` and stays missing through arithmetic (as in CloudWatch,
 * where a period without data yields no value) unless FILL replaces it. Anything else is refused with
 * the token it stopped at, so an alarm the local mesh cannot evaluate says why.
 */

export type MathValue = number | undefined;

type Node =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'neg'; readonly arg: Node }
  | { readonly kind: 'bin'; readonly op: string; readonly left: Node; readonly right: Node }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Node[] };

const FUNCTIONS: Readonly<Record<string, number>> = { IF: 3, FILL: 2, ABS: 1 };

/** A parsed expression: `ids` are the metric ids it reads; `evaluate` runs it for one period. */
export interface MetricExpression {
  readonly ids: readonly string[];
  evaluate(resolve: (id: string) => MathValue): MathValue;
}

export class MetricMathError extends Error {
  override readonly name = 'MetricMathError';
}

export function parseMetricMath(text: string): MetricExpression {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const expect = (t: string) => {
    const got = next();
    if (got !== t) throw new MetricMathError(`expected "${t}" in ${JSON.stringify(text)}, got ${describe(got)}`);
  };
  const binary = (ops: readonly string[], operand: () => Node) => (): Node => {
    let left = operand();
    while (ops.includes((peek() ?? '').toUpperCase())) {
      const op = next()!.toUpperCase();
      left = { kind: 'bin', op, left, right: operand() };
    }
    return left;
  };
  const primary = (): Node => {
    const t = next();
    if (t === undefined) throw new MetricMathError(`${JSON.stringify(text)} ends too early`);
    if (t === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (t === '-') return { kind: 'neg', arg: primary() };
    if (/^\d/.test(t)) return { kind: 'num', value: Number(t) };
    if (/^[A-Za-z_]\w*$/.test(t)) {
      if (peek() !== '(') return { kind: 'id', id: t };
      const fn = t.toUpperCase();
      const arity = FUNCTIONS[fn];
      if (arity === undefined) throw new MetricMathError(`function ${t} is not supported by the local mesh's alarms`);
      next();
      const args: Node[] = [or()];
      while (peek() === ',') {
        next();
        args.push(or());
      }
      expect(')');
      if (args.length !== arity) throw new MetricMathError(`${fn} takes ${arity} arguments, got ${args.length}`);
      return { kind: 'call', fn, args };
    }
    throw new MetricMathError(`unexpected ${describe(t)} in ${JSON.stringify(text)}`);
  };
  const mul = binary(['*', '/'], primary);
  const add = binary(['+', '-'], mul);
  const cmp = binary(['>', '<', '>=', '<=', '==', '!='], add);
  const and = binary(['AND'], cmp);
  const or = binary(['OR'], and);
  const root = or();
  if (pos < tokens.length) throw new MetricMathError(`unexpected ${describe(tokens[pos])} in ${JSON.stringify(text)}`);
  const ids = new Set<string>();
  collectIds(root, ids);
  return { ids: [...ids], evaluate: (resolve) => evaluate(root, resolve) };
}

function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(\d+(?:\.\d+)?|[A-Za-z_]\w*|>=|<=|==|!=|[-+*/(),<>])/y;
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m)
      throw new MetricMathError(`cannot read ${JSON.stringify(text.slice(i, i + 10))} in ${JSON.stringify(text)}`);
    out.push(m[1]!);
    i = re.lastIndex;
  }
  return out;
}

function collectIds(n: Node, ids: Set<string>): void {
  if (n.kind === 'id') ids.add(n.id);
  else if (n.kind === 'neg') collectIds(n.arg, ids);
  else if (n.kind === 'bin') {
    collectIds(n.left, ids);
    collectIds(n.right, ids);
  } else if (n.kind === 'call') for (const a of n.args) collectIds(a, ids);
}

function evaluate(n: Node, resolve: (id: string) => MathValue): MathValue {
  switch (n.kind) {
    case 'num':
      return n.value;
    case 'id':
      return resolve(n.id);
    case 'neg': {
      const v = evaluate(n.arg, resolve);
      return v === undefined ? undefined : -v;
    }
    case 'call': {
      const [a, b, c] = n.args;
      if (n.fn === 'FILL') return evaluate(a!, resolve) ?? evaluate(b!, resolve);
      if (n.fn === 'ABS') {
        const v = evaluate(a!, resolve);
        return v === undefined ? undefined : Math.abs(v);
      }
      const cond = evaluate(a!, resolve);
      if (cond === undefined) return undefined;
      return evaluate(cond !== 0 ? b! : c!, resolve);
    }
    case 'bin': {
      const l = evaluate(n.left, resolve);
      const r = evaluate(n.right, resolve);
      if (l === undefined || r === undefined) return undefined;
      switch (n.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          return r === 0 ? undefined : l / r;
        case '>':
          return l > r ? 1 : 0;
        case '<':
          return l < r ? 1 : 0;
        case '>=':
          return l >= r ? 1 : 0;
        case '<=':
          return l <= r ? 1 : 0;
        case '==':
          return l === r ? 1 : 0;
        case '!=':
          return l !== r ? 1 : 0;
        case 'AND':
          return l !== 0 && r !== 0 ? 1 : 0;
        default:
          return l !== 0 || r !== 0 ? 1 : 0;
      }
    }
  }
}

function describe(token: string | undefined): string {
  return token === undefined ? 'the end' : JSON.stringify(token);
}
