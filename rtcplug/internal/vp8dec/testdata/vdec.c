// Minimal libvpx VP8 decoder driver: IVF in, raw I420 (cropped) out.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
extern void *vpx_codec_vp8_dx(void);
extern int vpx_codec_dec_init_ver(void *ctx, void *iface, const void *cfg, long flags, int ver);
extern int vpx_codec_decode(void *ctx, const uint8_t *data, unsigned int sz, void *priv, long deadline);
extern void *vpx_codec_get_frame(void *ctx, const void **iter);
int main(int argc, char **argv) {
	static unsigned char ctx[256];
	void *iface = vpx_codec_vp8_dx();
	int ver, ok = 0;
	for (ver = 0; ver < 100; ver++) { if (vpx_codec_dec_init_ver(ctx, iface, NULL, 0, ver) == 0) { ok = 1; break; } }
	if (!ok) { fprintf(stderr, "init\n"); return 1; }
	FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
	unsigned char hdr[32]; if (fread(hdr, 1, 32, in) != 32) return 1;
	int rc = 0;
	for (;;) {
		unsigned char fh[12]; if (fread(fh, 1, 12, in) != 12) break;
		uint32_t sz = fh[0] | fh[1] << 8 | fh[2] << 16 | (uint32_t)fh[3] << 24;
		unsigned char *buf = malloc(sz + 1);
		if (fread(buf, 1, sz, in) != sz) break;
		if (vpx_codec_decode(ctx, buf, sz, NULL, 0)) { fprintf(stderr, "decode error\n"); rc = 3; continue; }
		const void *it = NULL; unsigned char *img;
		while ((img = vpx_codec_get_frame(ctx, &it))) {
			unsigned int dw = *(unsigned int *)(img + 24), dh = *(unsigned int *)(img + 28);
			unsigned char **planes = (unsigned char **)(img + 48); int *stride = (int *)(img + 80);
			for (int p = 0; p < 3; p++) {
				unsigned int w = p ? (dw + 1) / 2 : dw, h = p ? (dh + 1) / 2 : dh;
				for (unsigned int y = 0; y < h; y++) fwrite(planes[p] + y * stride[p], 1, w, out);
			}
		}
		free(buf);
	}
	fclose(out);
	return rc;
}
