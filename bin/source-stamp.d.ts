/** Where the stamp of the sources a build came from is kept, relative to the project root. */
export declare const STAMP_FILE: string;
/** SHA-256 over the path and content of every build input, hex. */
export declare function sourceStamp(root: string): string;
/** True when dist/ was built from exactly the sources under `root`. */
export declare function distIsCurrent(root: string): boolean;
