/** Lines of KEY=value for systemd EnvironmentFile / POSIX sh, quoted only when needed. */
export function renderEnvFile(header: string, vars: readonly (readonly [string, string | number | boolean])[]): string {
    const quote = (value: string) => (/^[A-Za-z0-9_./:,@+-]*$/.test(value) ? value : `'${value.replace(/'/g, `'"'"'`)}'`);
    return [`# ${header}`, ...vars.map(([key, value]) => `${key}=${quote(String(value))}`)].join("\n") + "\n";
}
