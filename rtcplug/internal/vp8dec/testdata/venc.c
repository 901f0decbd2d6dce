// Minimal libvpx VP8 encoder driver: raw I420 in, IVF out, every frame a key
// frame, with a chosen token partition count.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
extern void *vpx_codec_vp8_cx(void);
extern int vpx_codec_enc_config_default(void *iface, void *cfg, unsigned int usage);
extern int vpx_codec_enc_init_ver(void *ctx, void *iface, const void *cfg, long flags, int ver);
extern int vpx_codec_control_(void *ctx, int ctrl_id, ...);
extern void *vpx_img_wrap(void *img, int fmt, unsigned int d_w, unsigned int d_h, unsigned int align, unsigned char *img_data);
extern int vpx_codec_encode(void *ctx, const void *img, int64_t pts, unsigned long duration, long flags, unsigned long deadline);
extern const void *vpx_codec_get_cx_data(void *ctx, const void **iter);
static void le32(FILE *f, uint32_t v) { fputc(v, f); fputc(v >> 8, f); fputc(v >> 16, f); fputc(v >> 24, f); }
static void le16(FILE *f, uint32_t v) { fputc(v, f); fputc(v >> 8, f); }
int main(int argc, char **argv) {
	if (argc < 7) { fprintf(stderr, "usage: venc in.yuv out.ivf w h frames parts [bitrate]\n"); return 2; }
	int w = atoi(argv[3]), h = atoi(argv[4]), n = atoi(argv[5]), parts = atoi(argv[6]);
	int br = argc > 7 ? atoi(argv[7]) : 256;
	static unsigned char cfg[8192], ctx[256], img[1024];
	void *iface = vpx_codec_vp8_cx();
	if (vpx_codec_enc_config_default(iface, cfg, 0)) { fprintf(stderr, "config\n"); return 1; }
	*(uint32_t *)(cfg + 12) = w; *(uint32_t *)(cfg + 16) = h;
	*(int32_t *)(cfg + 28) = 1; *(int32_t *)(cfg + 32) = 30;
	int ver, ok = 0;
	for (ver = 0; ver < 100; ver++) { if (vpx_codec_enc_init_ver(ctx, iface, cfg, 0, ver) == 0) { ok = 1; break; } }
	if (!ok) { fprintf(stderr, "init\n"); return 1; }
	if (vpx_codec_control_(ctx, 18, parts)) { fprintf(stderr, "token parts\n"); return 1; }
	(void)br;
	size_t fsz = (size_t)w * h + 2 * (size_t)((w + 1) / 2) * ((h + 1) / 2);
	unsigned char *buf = malloc(fsz);
	FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
	fwrite("DKIF", 1, 4, out); le16(out, 0); le16(out, 32); fwrite("VP80", 1, 4, out);
	le16(out, w); le16(out, h); le32(out, 30); le32(out, 1); le32(out, n); le32(out, 0);
	for (int i = 0; i < n; i++) {
		if (fread(buf, 1, fsz, in) != fsz) break;
		vpx_img_wrap(img, 0x102, w, h, 1, buf);
		if (vpx_codec_encode(ctx, img, i, 1, 1 /* force key frame */, 0 /* best */)) { fprintf(stderr, "encode\n"); return 1; }
		const void *it = NULL; const unsigned char *pkt;
		while ((pkt = vpx_codec_get_cx_data(ctx, &it))) {
			if (*(int *)pkt != 0) continue;
			void *data = *(void **)(pkt + 8); size_t sz = *(size_t *)(pkt + 16);
			le32(out, sz); le32(out, i); le32(out, 0); fwrite(data, 1, sz, out);
		}
	}
	fclose(out);
	return 0;
}
