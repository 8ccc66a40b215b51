/**
 * Types for the parts of the `des.js` package (indutny/des.js, MIT) that
 * src/crypto/des.ts uses. The package ships no declarations.
 */
declare module 'des.js' {
  interface DesCipherOptions {
    readonly type: 'encrypt' | 'decrypt';
    /** 8 key bytes (parity bits ignored). */
    readonly key: ArrayLike<number>;
    /** PKCS#5 padding on `final()`; MS-CHAP encrypts exactly one block, so false. */
    readonly padding?: boolean;
  }
  interface DesCipher {
    update(data: ArrayLike<number>): number[];
    final(): number[];
  }
  const desjs: {
    readonly DES: { create(options: DesCipherOptions): DesCipher };
  };
  export = desjs;
}
