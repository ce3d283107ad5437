/**
 * A small TwiML writer with the shape of twilio's VoiceResponse/MessagingResponse (`say`, `dial`, `number`,
 * `record`, `hangup`, `message`, `toString`) and byte-for-byte the same output (test/lib/twilio checks it
 * against twilio's own builders). Twilio's builders carry an XML library of about 60 KB into every bundle;
 * the few elements a webhook answers with need none.
 */
type Attributes = Record<string, string | number | boolean | readonly string[] | undefined>;

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttribute = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');

export class TwimlElement {
  private readonly children: TwimlElement[] = [];

  constructor(
    private readonly name: string,
    private readonly attributes: Attributes = {},
    private readonly text?: string,
  ) {}

  protected add(name: string, attributes?: Attributes, text?: string): TwimlElement {
    const child = new TwimlElement(name, attributes, text);
    this.children.push(child);
    return child;
  }

  say(attributes: Attributes, text: string): this {
    this.add('Say', attributes, text);
    return this;
  }

  dial(attributes: Attributes): TwimlElement {
    return this.add('Dial', attributes);
  }

  number(text: string, attributes: Attributes = {}): this {
    this.add('Number', attributes, text);
    return this;
  }

  record(attributes: Attributes): this {
    this.add('Record', attributes);
    return this;
  }

  hangup(): this {
    this.add('Hangup');
    return this;
  }

  message(text: string): this {
    this.add('Message', {}, text);
    return this;
  }

  render(): string {
    let attributes = '';
    for (const [key, value] of Object.entries(this.attributes)) {
      if (value === undefined) continue;
      const text = Array.isArray(value) ? value.join(' ') : String(value);
      attributes += ` ${key}="${escapeAttribute(text)}"`;
    }
    const body =
      (this.text === undefined ? '' : escapeText(this.text)) + this.children.map((c) => c.render()).join('');
    return body === '' ? `<${this.name}${attributes}/>` : `<${this.name}${attributes}>${body}</${this.name}>`;
  }
}

/** `<Response>`: the document every TwiML answer is. */
export class TwimlResponse extends TwimlElement {
  constructor() {
    super('Response');
  }

  override toString(): string {
    return `<?xml version="1.0" encoding="UTF-8"?>${this.render()}`;
  }
}
