package crypto

import (
	"strconv"
	"testing"
)

// Run with: go test -run '^$' -bench . ./internal/platform/crypto/

func BenchmarkSign(b *testing.B) {
	for _, profile := range profiles {
		b.Run(profile, func(b *testing.B) {
			s, msg := ephemeral(b, profile).Signer(), make([]byte, 256)
			for b.Loop() {
				if _, err := s.Sign(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, profile := range profiles {
		b.Run(profile, func(b *testing.B) {
			s, msg := ephemeral(b, profile).Signer(), make([]byte, 256)
			sig, err := s.Sign(msg)
			if err != nil {
				b.Fatal(err)
			}
			pub := s.Public()
			for b.Loop() {
				if err := Verify(pub, msg, sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHash(b *testing.B) {
	for _, profile := range profiles {
		p := ephemeral(b, profile)
		for _, size := range []int{64, 8 << 10} {
			b.Run(profile+"/"+sizeName(size), func(b *testing.B) {
				data := make([]byte, size)
				b.SetBytes(int64(size))
				for b.Loop() {
					p.Hash(data)
				}
			})
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	for _, profile := range profiles {
		f := ephemeral(b, profile).Fields()
		for _, size := range []int{64, 8 << 10} {
			b.Run(profile+"/"+sizeName(size), func(b *testing.B) {
				pt, ad := make([]byte, size), []byte("users.id_number:42")
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, err := f.Encrypt(pt, ad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, profile := range profiles {
		f := ephemeral(b, profile).Fields()
		for _, size := range []int{64, 8 << 10} {
			b.Run(profile+"/"+sizeName(size), func(b *testing.B) {
				ad := []byte("users.id_number:42")
				ct, err := f.Encrypt(make([]byte, size), ad)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, err := f.Decrypt(ct, ad); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkBlind(b *testing.B) {
	for _, profile := range profiles {
		b.Run(profile, func(b *testing.B) {
			f, v := ephemeral(b, profile).Fields(), []byte("11010119900307777X")
			for b.Loop() {
				f.Blind(v)
			}
		})
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("Shuzhi@2026"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	encoded, err := HashPassword("Shuzhi@2026")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, _ := VerifyPassword(encoded, "Shuzhi@2026"); !ok {
			b.Fatal("no match")
		}
	}
}

func sizeName(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
