// A configured value the process cannot use at start (an address already taken, an unreadable certificate). Its
// message names the setting, what went wrong and what to change, so it is printed alone, without a stack.
export class SettingError extends Error {
  constructor(
    /** The config key, e.g. http.addr. */
    readonly setting: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SettingError';
  }
}
