/** A SQL string literal. */
export function sqlLiteral(text: string): string {
    return `'${text.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier: role names such as `user` are reserved words unquoted. */
export function sqlIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}
