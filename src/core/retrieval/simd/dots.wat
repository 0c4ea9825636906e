;; Float32 dot products of one query with many rows, four lanes at a time (WebAssembly SIMD).
;; The bank's VectorIndex keeps its vectors in this module's memory, so a search is one call with
;; no copying. Scores are float32 and only pick the candidates: the index rescores those exactly.
;; Rebuild the embedded bytes with `npm run build:simd` after editing (a unit test checks they match).
(module
  (import "env" "memory" (memory 1 65536))

  ;; out[r] = sum(row_r[j] * query[j] for j < stride) for r < rows, where row_r starts at
  ;; data + r * stride * 4. All pointers are byte offsets aligned to 16; stride is a multiple of 4.
  (func (export "dots")
    (param $data i32) (param $query i32) (param $rows i32) (param $stride i32) (param $out i32)
    (local $r i32) (local $row i32) (local $j i32) (local $bytes i32) (local $bytes64 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 2)))
    ;; Four independent accumulators over 64-byte steps keep the adds from waiting on each other.
    (local.set $bytes64 (i32.and (local.get $bytes) (i32.const -64)))
    (local.set $row (local.get $data))
    (block $done
      (loop $each_row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $end64
          (loop $step64
            (br_if $end64 (i32.ge_u (local.get $j) (local.get $bytes64)))
            (local.set $a0 (f32x4.add (local.get $a0)
              (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $j)))
                         (v128.load (i32.add (local.get $query) (local.get $j))))))
            (local.set $a1 (f32x4.add (local.get $a1)
              (f32x4.mul (v128.load offset=16 (i32.add (local.get $row) (local.get $j)))
                         (v128.load offset=16 (i32.add (local.get $query) (local.get $j))))))
            (local.set $a2 (f32x4.add (local.get $a2)
              (f32x4.mul (v128.load offset=32 (i32.add (local.get $row) (local.get $j)))
                         (v128.load offset=32 (i32.add (local.get $query) (local.get $j))))))
            (local.set $a3 (f32x4.add (local.get $a3)
              (f32x4.mul (v128.load offset=48 (i32.add (local.get $row) (local.get $j)))
                         (v128.load offset=48 (i32.add (local.get $query) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $step64)))
        (block $end16
          (loop $step16
            (br_if $end16 (i32.ge_u (local.get $j) (local.get $bytes)))
            (local.set $a0 (f32x4.add (local.get $a0)
              (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $j)))
                         (v128.load (i32.add (local.get $query) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $step16)))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
                                  (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (local.set $row (i32.add (local.get $row) (local.get $bytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))
)
