/**
 * pure-rand 8 publishes only subpath `exports`, which this project's
 * `moduleResolution: node` does not read for types (Node resolves them at run
 * time). These declarations point the two subpaths the simulator imports at
 * the package's own type files, so the types stay the library's.
 */
declare module 'pure-rand/generator/xoroshiro128plus' {
  export * from 'pure-rand/lib/generator/xoroshiro128plus';
}
declare module 'pure-rand/distribution/uniformFloat64' {
  export * from 'pure-rand/lib/distribution/uniformFloat64';
}
