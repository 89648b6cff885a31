# Analysis only (uses the target columns to describe the data, never as inputs): the (log Likes, log Dislikes,
# log Bookmarks) cloud is a mixture of ~7 tight clusters; tertile cuts split two of them.
from base import *
from sklearn.mixture import GaussianMixture
Z=np.c_[np.log10(df.Likes),np.log10(df.Dislikes),np.log10(df.Bookmarks)]
g=GaussianMixture(7,n_init=5,random_state=0).fit(Z); C=g.predict(Z)
