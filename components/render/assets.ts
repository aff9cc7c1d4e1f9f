import * as fs from "fs";
import * as path from "path";

const FILES_DIR = path.resolve(__dirname, "..", "..", "files");

/** A file shipped to hosts from files/, as text. */
export function asset(relativePath: string): string {
    return fs.readFileSync(path.join(FILES_DIR, relativePath), "utf8");
}

/** Absolute path of a folder under files/ (Docker build contexts). */
export function assetDir(relativePath: string): string {
    return path.join(FILES_DIR, relativePath);
}
