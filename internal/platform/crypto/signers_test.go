package crypto

import "testing"

func TestGenerateMarshalParseSigner(t *testing.T) {
	t.Parallel()
	for _, profile := range []string{ProfileIntl, ProfileGM} {
		t.Run(profile, func(t *testing.T) {
			p, err := NewEphemeral(profile)
			if err != nil {
				t.Fatal(err)
			}
			s, err := p.GenerateSigner()
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != p.Signer().Algorithm() {
				t.Fatalf("algorithm %s, want the profile's %s", s.Algorithm(), p.Signer().Algorithm())
			}
			der, err := MarshalSigner(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseSigner(der)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Public().Equal(s.Public()) {
				t.Fatal("round trip changed the public key")
			}
			sig, err := back.Sign([]byte("attest"))
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(s.Public(), []byte("attest"), sig); err != nil {
				t.Fatalf("signature of the parsed key does not verify: %v", err)
			}
			if err := Verify(s.Public(), []byte("other"), sig); err == nil {
				t.Fatal("signature verifies for another message")
			}
		})
	}
	if _, err := ParseSigner([]byte("junk")); err == nil {
		t.Fatal("junk parsed as a key")
	}
}
